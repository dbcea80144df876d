"""Chain::process_block, finalization and rollback (app/src/chain.rs §2.3–2.4, §5.1), as coded.

The port's own parts only (nothing from models/): blocks are decoded and hashed by alys/wire.py,
fees come from alys/evm.py, approvals are checked by alys/approvals.py, and the PoW checks are
those of the chain component that makes the node (alys/chain.py ChainPort, given to the node as
its `pow` argument: imports run one way, chain.py -> node.py). Blocks arrive as any objects with
the attributes of a SignedConsensusBlock (the port's own, or the suite's models). An import is
all or nothing: every check and every derived value (fees, the height index) is computed before
the first write, so a block that raises leaves the node exactly as it was.

Quirks (on in target `alys`):
* `chain-slot-author-unchecked`: the "signed by the slot author" check is commented out;
* `chain-rollback-undoes-finalization`: rollback_head moves the latest-PoW pointer back, and the
  last finalized block with it;
* `chain-withdrawals-extra-accepted`: unexpected extra withdrawals pass (only missing expected
  ones fail), and the fee split is collected into a map, so a repeated address keeps the last;
* `chain-full-nodes-skip-withdrawals`: only validators check withdrawals and peg-ins;
* `chain-pegin-utf8-address-rejected`: a raw 20-byte OP_RETURN address whose bytes are valid
  UTF-8 is parsed as a 20-character string, and rejected.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from attrs import frozen

from alys.approvals import ApprovalsPort, BadSignature
from alys.evm import block_fees
from alys.variant import Variant
from alys.wire import DecodeError, block_root, decode_block, tree_hash_root

ZERO = bytes(32)


class NodeError(Exception):
    pass


class ProcessGenesis(NodeError):
    pass


class InvalidBlock(NodeError):
    pass


class MissingParent(NodeError):
    pass


class ExecutionHashChainIncontiguous(NodeError):
    pass


class SlotIsInFuture(NodeError):
    pass


class SlotAuthorNotFound(NodeError):
    pass


class WrongSlotAuthor(NodeError):
    pass


class NotEnoughApprovals(NodeError):
    pass


class UnknownWithdrawal(NodeError):
    pass


class PegInAlreadyIncluded(NodeError):
    pass


class InsufficientConfirmations(NodeError):
    pass


class BitcoinBlockNotFound(NodeError):
    pass


class NotAPegin(NodeError):
    pass


class InvalidPowRange(NodeError):
    pass


class InvalidBlockRange(NodeError):
    pass


class MissingRequiredPow(NodeError):
    pass


class IllegalFinalization(NodeError):
    pass


class IllegalRollback(NodeError):
    pass


_H160 = re.compile(r"(0x)?[0-9a-fA-F]{40}")
__all__ = ["DecodeError", "Node", "PowContext", "PowRules", "block_root", "decode_block", "tree_hash_root"]


@frozen
class PowContext:
    """What check_pow is given (chain.rs check_pow): the range's aggregate hash, the bits
    get_next_work_required asks for at the current head, the chain id, and the next AuxPoW height."""

    aggregate_hash: bytes
    bits: int
    chain_id: int
    height: int
    override: bool = False  # chain.rs: blocks at or below height 533683 skip the target


class PowRules(Protocol):
    """The PoW half of chain.rs the node calls while importing (alys/chain.py ChainPort has it)."""

    def aggregate_hash(self, block_hashes: list[bytes]) -> bytes: ...

    def get_next_work_required(
        self, last_pow_height: int, last_bits: int, params: Any, head_height: int
    ) -> int: ...

    def check_pow(self, header: Any, ctx: PowContext) -> None: ...


class Node:
    """One node: storage and pointers (what it persists), and process_block."""

    def __init__(
        self,
        variant: Variant,
        pow: PowRules,
        approvals: ApprovalsPort,
        spec: Any,
        genesis: Any,
        bitcoin: Any,
        validator: bool = True,
    ) -> None:
        self.v, self.pow, self.approvals = variant, pow, approvals
        self.spec, self.bitcoin, self.validator = spec, bitcoin, validator
        g = block_root(genesis.message)
        # Persisted state (HEAD_KEY, LATEST_POW_BLOCK_KEY, columns blk/fee/wallet):
        self.blocks: dict[bytes, Any] = {g: genesis}
        self.by_height: dict[int, bytes] = {0: g}
        self.head = self.latest_pow = g
        self.fees: dict[bytes, int] = {g: 0}
        self.wallet: set[bytes] = set()

    def restart(self) -> Node:
        """A new process over the same store."""
        fresh = Node.__new__(Node)
        fresh.__dict__.update(self.__dict__)
        return fresh

    # --- derived -------------------------------------------------------------------------------------
    def _msg(self, h: bytes) -> Any:
        return self.blocks[h].message

    @property
    def head_height(self) -> int:
        number: int = self._msg(self.head).execution_payload.block_number
        return number

    @property
    def finalized(self) -> bytes:
        header = self._msg(self.latest_pow).auxpow_header
        return self.latest_pow if header.height == 0 else header.range_end

    @property
    def finalized_height(self) -> int:
        number: int = self._msg(self.finalized).execution_payload.block_number
        return number

    @property
    def stored(self) -> set[bytes]:
        return set(self.blocks)

    # --- process_block ---------------------------------------------------------------------------------
    def process_block(self, signed: Any) -> None:
        block = signed.message
        number = block.execution_payload.block_number
        if block.parent_hash == ZERO:
            raise ProcessGenesis()
        if self.head_height >= number:
            raise InvalidBlock()
        parent = self.blocks.get(block.parent_hash)
        missing = parent is None
        # Seeded mutants sit in `if` blocks of their own, kept out of mutation: no shipped target
        # runs what a mutation changes inside them (docs/mutation.md).
        if self.v.on("chain-accepts-unknown-parent"):  # pragma: no mutate block
            missing = False
        if missing:
            raise MissingParent()
        if (
            parent is not None
            and block.execution_payload.parent_hash != parent.message.execution_payload.block_hash
        ):
            raise ExecutionHashChainIncontiguous()
        root = block_root(block)
        self._check_signed_by_author(signed, root)
        if self.validator or not self.v.on("chain-full-nodes-skip-withdrawals"):
            self._check_withdrawals(block)
        header = block.auxpow_header
        if header is not None:
            self._check_pow(header)
            if block.finalized_pegouts:
                raise IllegalFinalization()
        else:
            if number - self.finalized_height > self.spec.max_blocks_without_pow:
                raise MissingRequiredPow()
            if block.finalized_pegouts:
                raise IllegalFinalization()
        if self.v.on("chain-import-moves-head-early"):  # pragma: no mutate block
            self.blocks[root], self.head = signed, root  # written before the last check can refuse
            self.by_height[number] = root
        if not self.approvals.majority_approved(signed.signature, list(self.spec.authorities), root):
            raise NotEnoughApprovals()
        self._import(signed, root)

    def _check_signed_by_author(self, signed: Any, root: bytes) -> None:
        block = signed.message
        ts = block.execution_payload.timestamp
        if block.slot > ts * 1000 // self.spec.slot_duration_ms + 1 and block.slot > ts * 1000 // 3000 + 1:
            raise SlotIsInFuture()
        if not self.spec.authorities:
            raise SlotAuthorNotFound()
        if not self.v.on("chain-slot-author-unchecked"):
            author = block.slot % len(self.spec.authorities)
            if not signed.signature.bits[author]:
                raise WrongSlotAuthor()
        n = len(self.spec.authorities)
        # Our hardening, where the reference puts it (models/chain.py check_signed_by_author ->
        # check_aggregate): a bit past the federation is refused here, in aura.rs's author check,
        # before withdrawals and PoW are looked at, by the approvals' own rule.
        self.approvals.check_known(signed.signature.bits, n)
        try:
            sig = (
                None
                if signed.signature.signature is None
                else self.approvals.bls.signature(signed.signature.signature)
            )
        except ValueError:
            sig = None
        signers = [pk for bit, pk in zip(signed.signature.bits, self.spec.authorities, strict=False) if bit]
        if sum(signed.signature.bits) >= self.approvals.required_approvals(
            n
        ) and not self.approvals.bls.fast_aggregate_verify(signers, root, sig):
            raise BadSignature()

    def _pegin(self, tx: Any) -> tuple[int, bytes]:
        fed = self.spec.federation_spk
        amount = next((o.value for o in tx.outputs if o.script_pubkey == fed), None)
        if amount is None:
            raise NotAPegin()
        for o in tx.outputs:
            spk = o.script_pubkey
            if not spk or spk[0] != 0x6A:
                continue
            data = _last_push(spk)
            if data is None:
                continue
            if len(data) == 20 and not self.v.on("chain-pegin-utf8-address-rejected"):
                return amount, data
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                if len(data) == 20:
                    return amount, data
                continue
            if _H160.fullmatch(text):
                return amount, bytes.fromhex(text[-40:])
        raise NotAPegin()

    def _check_withdrawals(self, block: Any) -> None:
        expected: dict[bytes, int] = {}
        header = block.auxpow_header
        if header is not None:
            fees = self.fees[block.parent_hash]
            if fees:
                miner = fees * 80 // 100
                share_total = fees - miner
                n = len(self.spec.federation)
                each = share_total // n
                split = [(header.fee_recipient, miner // 10**9)] + [
                    (a, each // 10**9) for a in self.spec.federation
                ]
                if self.v.on("chain-fee-split-rounds-up"):  # pragma: no mutate block
                    split = [(header.fee_recipient, miner // 10**9)] + [
                        (a, -(-each // 10**9)) for a in self.spec.federation
                    ]
                for address, gwei in split:
                    if self.v.on("chain-withdrawals-extra-accepted"):
                        expected[address] = gwei  # collected into a map: the last one wins
                    else:
                        expected[address] = expected.get(address, 0) + gwei
        per_address: dict[bytes, int] = {}
        for txid, btc_block in block.pegins:
            if txid in self.wallet:
                raise PegInAlreadyIncluded()
            if btc_block not in self.bitcoin.confirmations:
                raise BitcoinBlockNotFound()
            if self.bitcoin.confirmations[btc_block] < self.spec.required_confirmations:
                raise InsufficientConfirmations()
            tx = self.bitcoin.transactions.get(txid)
            if tx is None:
                raise NotAPegin()
            amount, address = self._pegin(tx)
            if address in per_address or len(per_address) < 16:
                per_address[address] = per_address.get(address, 0) + amount
        for address, sats in per_address.items():
            expected[address] = expected.get(address, 0) + sats * 10
        remaining = {a: v for a, v in expected.items() if v}
        extras = []
        for w in block.execution_payload.withdrawals:
            if remaining.get(w.address) == w.amount:
                del remaining[w.address]
            else:
                extras.append(w)
        if remaining or (extras and not self.v.on("chain-withdrawals-extra-accepted")):
            raise UnknownWithdrawal()

    def _check_pow(self, header: Any) -> None:
        start = self.blocks.get(header.range_start)
        if start is None:
            raise InvalidBlockRange()
        ok = start.message.parent_hash == self.finalized
        if self.v.on("chain-finalized-range-off-by-one"):  # pragma: no mutate block
            ok = ok or header.range_start == self.finalized
        if not ok:
            raise InvalidPowRange()
        hashes: list[bytes] = []
        cursor = header.range_end
        stop = start.message.parent_hash
        while cursor != stop:
            if cursor not in self.blocks or len(hashes) > len(self.blocks):
                raise InvalidBlockRange()
            hashes.append(cursor)
            cursor = self._msg(cursor).parent_hash
        last = self._msg(self.latest_pow)
        bits = self.pow.get_next_work_required(
            last.execution_payload.block_number, last.auxpow_header.bits, self.spec.retarget, self.head_height
        )
        ctx = PowContext(
            self.pow.aggregate_hash(hashes[::-1]), bits, self.spec.chain_id, last.auxpow_header.height + 1
        )
        self.pow.check_pow(header, ctx)

    def _import(self, signed: Any, root: bytes) -> None:
        """Store `signed` as the new head: everything is computed first, then written at once."""
        block = signed.message
        number = block.execution_payload.block_number
        p = block.execution_payload
        own = block_fees(p.transactions, p.base_fee_per_gas)  # the EL's answer for this payload
        fees = own if block.auxpow_header is not None else self.fees[block.parent_hash] + own
        by_height = self._index_after(root, signed, number)
        # Nothing below can raise: the import is applied whole.
        self.blocks[root] = signed
        self.by_height = by_height
        self.head = root
        self.fees[root] = fees
        self.wallet.update(txid for txid, _ in block.pegins)
        if block.auxpow_header is not None:
            self.latest_pow = root

    def _index_after(self, root: bytes, signed: Any, number: int) -> dict[int, bytes]:
        """The height index once `signed` is the head: by_height holds 0..head, the new head's
        ancestry. One step when the parent is the old head; more after a rollback, when the parent
        is a stored block that was rolled back (chain.rs checks only that the parent is stored)."""
        index = {k: v for k, v in self.by_height.items() if k < number}

        def message(h: bytes) -> Any:
            return signed.message if h == root else self._msg(h)

        cursor, height = root, number
        while index.get(height) != cursor:
            index[height] = cursor
            parent = message(cursor).parent_hash
            if parent not in self.blocks:
                break
            cursor, height = parent, message(parent).execution_payload.block_number
        return index

    def import_trusted(self, signed: Any) -> None:
        """Recovery: import a block a verified checkpoint vouches for, without re-validating it."""
        self._import(signed, block_root(signed.message))

    def restore_pointer(self, latest_pow: bytes) -> None:
        """Recovery: the latest-PoW pointer as the checkpoint recorded it."""
        if latest_pow not in self.blocks:
            raise ValueError("checkpoint names a latest PoW block the store does not hold")
        self.latest_pow = latest_pow

    def holds(self, signed: Any) -> bool:
        """Whether this very block is already on the node's chain."""
        number = signed.message.execution_payload.block_number
        return number in self.by_height and self.by_height[number] == block_root(signed.message)

    def rollback(self, height: int) -> None:
        """rollback_head(height), refusing to undo finalization unless the quirk is on."""
        pow_height = self._msg(self.latest_pow).execution_payload.block_number
        if height < pow_height and not self.v.on("chain-rollback-undoes-finalization"):
            raise IllegalRollback()
        self.rollback_head(height)

    def rollback_head(self, height: int) -> None:
        """rollback_head(height) as coded: no finality check at all."""
        if height >= self.head_height:
            return
        self.head = self.by_height[height]
        self.by_height = {k: v for k, v in self.by_height.items() if k <= height}
        pows = [k for k, h in self.by_height.items() if self._msg(h).auxpow_header is not None]
        self.latest_pow = self.by_height[max(pows)]  # the node moves the latest-PoW pointer back


def _last_push(script: bytes) -> bytes | None:
    """The data of the script's last element if it is a push (the last token of its ASM)."""
    i, last = 1, None
    while i < len(script):
        op = script[i]
        if 0 < op < 0x4C:
            size, i = op, i + 1
        elif op == 0x4C and i + 1 < len(script):
            size, i = script[i + 1], i + 2
        elif op == 0x4D and i + 2 < len(script):
            size, i = int.from_bytes(script[i + 1 : i + 3], "little"), i + 3
        else:
            return None
        if i + size > len(script):
            return None
        last, i = script[i : i + size], i + size
    return last
