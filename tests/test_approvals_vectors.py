"""Known answers for the federation: Alys's key pair, the threshold table, the padding attack."""

from __future__ import annotations

import pytest

from alys_pbt import targets
from alys_pbt.models import approvals as ref
from alys_pbt.models import bls

ALYS_PK_1 = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"


@pytest.mark.parametrize("name", ["blst", "milagro", "blspy", "py_ecc"])
def test_secret_key_1_gives_alys_dev_public_key(name: str) -> None:
    # alys-rules.md §3.1 / §7.6: the dev config's authority.
    assert bls.backend(name).SkToPk(1).hex() == ALYS_PK_1


def test_padding_attack_with_three_authorities() -> None:
    # §3.2: one honest signature plus one padded bit (index 14) reaches the threshold of 2.
    b = bls.backend("blst")
    pks = [b.SkToPk(sk) for sk in (11, 12, 13)]
    message = bytes(32)
    padded = ref.AggregateApproval(tuple([True] + [False] * 13 + [True]), b.Sign(11, message))
    with pytest.raises(ref.UnknownAuthority):
        ref.check_aggregate(padded, pks, message, b)
    assert targets.load("alys").approvals.majority_approved(padded, pks, message) is True
    with pytest.raises(Exception, match="beyond the 3 authorities"):
        targets.load("alys-fixed").approvals.majority_approved(padded, pks, message)


def test_aggregation_bits_serialize_as_two_ssz_bytes() -> None:
    # §3.2: BitList<U15> is 2 bytes: 15 bits and the length delimiter.
    empty = ref.AggregateApproval((False,) * 15, None)
    assert empty.ssz_bits() == bytes([0x00, 0x80])
    first_and_last = ref.AggregateApproval((True,) + (False,) * 13 + (True,), None)
    assert first_and_last.ssz_bits() == bytes([0x01, 0xC0])


@pytest.mark.parametrize("name", ["blst", "milagro", "blspy"])
def test_reference_rejects_undecodable_signatures_on_every_backend(name: str) -> None:
    # blspy raises on bytes it cannot decode; the reference must still answer InvalidSignature
    # (found by benchmarks/bench_federation.py running the machine on blspy).
    b = bls.backend(name)
    not_on_curve = bytes([0x80]) + bytes(46) + b"\x01" + bytes(47) + b"\x01"
    approval = ref.IndividualApproval(not_on_curve, 0)
    with pytest.raises(ref.InvalidSignature):
        ref.check_individual(approval, [b.SkToPk(5)], bytes(32), b)


# --- limits: probed at, just below and just above (issue 14, item 7) ----------------------------

LIMIT_KILLS = [
    ("approvals-floor-threshold", "test_block_approvals_just_below_at_and_just_above_the_threshold"),
    ("approvals-strict-threshold", "test_block_approvals_just_below_at_and_just_above_the_threshold"),
    ("approvals-unknown-index-off-by-one", "test_individual_approvals_at_and_past_the_last_authority"),
    ("approvals-bits-beyond-n-off-by-one", "test_aggregate_bits_at_and_past_the_last_authority"),
    ("approvals-max-authorities-off-by-one", "test_federation_size_just_below_at_and_past_the_bitlist"),
]


@pytest.mark.parametrize(("mutant", "prop"), LIMIT_KILLS)
def test_limit_properties_fail_on_off_by_one_mutants(mutant: str, prop: str) -> None:
    from alys_pbt.killing import discover, run_case

    (case,) = [c for c in discover(pattern="test_approvals.py") if c.function.endswith(f"::{prop}")]
    killed = run_case(case, targets.load(f"alys-fixed+{mutant}"), seed=0)
    assert killed.killed and not getattr(killed, "error", ""), f"{mutant} survived {prop}: {killed}"
    assert not run_case(case, targets.load("alys-fixed"), seed=0).killed


@pytest.mark.parametrize("n", range(1, ref.MAX_VALIDATORS + 1))
def test_threshold_is_met_exactly_at_ceil_two_thirds(n: int) -> None:
    # §3.4: `num_approvals >= (2n + 2) / 3`; one signer fewer is "not yet", one more still passes.
    b = bls.backend("blst")
    pks = [b.SkToPk(sk) for sk in range(1, n + 1)]
    message = bytes(range(32))
    port = targets.load("alys-fixed").approvals
    required = ref.required_approvals(n)
    for count in (required - 1, required, required + 1):
        if not 0 <= count <= n:
            continue
        approval = ref.AggregateApproval.of(
            [ref.IndividualApproval(b.Sign(sk, message), sk - 1) for sk in range(1, count + 1)], b
        )
        assert port.majority_approved(approval, pks, message) is (count >= required), f"{count} of {n}"


@pytest.mark.parametrize("n", [1, 7, 14, 15])
def test_individual_approval_index_limits(n: int) -> None:
    # §3.2: index >= n is UnknownAuthority (and so is >= 15, the bitlist's length).
    b = bls.backend("blst")
    pks = [b.SkToPk(sk) for sk in range(1, n + 1)]
    message = bytes(32)
    port = targets.load("alys-fixed").approvals
    signature = b.Sign(n, message)
    port.check_individual(ref.IndividualApproval(signature, n - 1), pks, message)
    for index in (n, 15, 255):
        with pytest.raises(Exception, match=str(index)) as raised:
            port.check_individual(ref.IndividualApproval(signature, index), pks, message)
        assert type(raised.value).__name__ == "UnknownAuthority"


def test_a_sixteenth_authority_can_never_approve_on_the_node_as_coded() -> None:
    # §3.2: IndividualApproval::check passes for index 15 < n = 16, then BitList<U15> refuses it.
    b = bls.backend("blst")
    pks = [b.SkToPk(sk) for sk in range(1, 17)]
    message = bytes(range(32))
    approval = ref.IndividualApproval(b.Sign(16, message), 15)
    node = targets.load("alys").approvals
    node.check_individual(approval, pks, message)
    cache = node.candidate_cache(pks)
    cache.insert_block(message, 1, 1)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the class is checked by name
        cache.add_approval(message, approval)
    assert type(raised.value).__name__ == "UnknownAuthority"
    # The secure rule refuses the federation when it is configured, reference and fixed port alike.
    with pytest.raises(ref.TooManyAuthorities):
        ref.Federation(pks, b)
    fixed = targets.load("alys-fixed").approvals
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the class is checked by name
        fixed.candidate_cache(pks)
    assert type(refused.value).__name__ == "TooManyAuthorities"
    assert targets.load("alys-fixed").approvals.candidate_cache(pks[:15]).accepted == []
