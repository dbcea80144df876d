"""The shrunk counterexample an AuxPoW property prints is short, readable and replays as printed
(issue 18, item 3).

Each test runs one AuxPoW property on a seeded mutant, deterministically (derandomized, no
database, shrinking on), and asserts the exact text Hypothesis prints: the property's arguments,
with the proof as the recipe it is built from (`case_of(AuxPowRecipe(...))`: only what differs from
a default, zero hashes as `bytes(32)`), and the property's notes. Then the printed case is evaluated
as it stands and checked again: the mutant rejects it as printed, and `alys-fixed` accepts it. A
change to the strategies, the recipe's printed form or the mutant may change the text: read the new
one in the failure message, and update it here if it still reads well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, settings

from alys_pbt import targets
from alys_pbt.models import auxpow as ref
from alys_pbt.models import bitcoin
from alys_pbt.strategies import auxpow as strategies
from alys_pbt.strategies.corruptions import BY_NAME
from alys_pbt.verdict import verdict
from properties import test_auxpow
from tests.support import ROOT

DETERMINISTIC = settings(
    derandomize=False,  # seeded instead (SEED): derandomizing seeds from the property's source text
    database=None,
    max_examples=100,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),  # no explain phase: it traces, slowly
    verbosity=Verbosity.normal,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
# What a printed case may name: the recipe's constructors and values.
NAMES = {**vars(bitcoin), **vars(strategies)}


SEED = 0


@contextmanager
def deterministic(prop: Any) -> Iterator[None]:
    """The property with the settings above and a fixed seed (not the plugin's, which derives from
    the node id), restored afterwards: the same examples whatever the run and the property's text."""
    saved = (prop._hypothesis_internal_use_settings, prop._hypothesis_internal_use_seed)
    prop._hypothesis_internal_use_settings, prop._hypothesis_internal_use_seed = DETERMINISTIC, SEED
    try:
        yield
    finally:
        prop._hypothesis_internal_use_settings, prop._hypothesis_internal_use_seed = saved


def printed_failure_here(prop: Callable[..., None], spec: str, **params: Any) -> str:
    """The text Hypothesis prints for the property's shrunk failure on target `spec`, in this process."""
    target = targets.load(spec)
    with deterministic(prop), targets.using(target), pytest.raises(AssertionError) as caught:
        prop(target=target, **params)
    return "\n".join(getattr(caught.value, "__notes__", []))


def printed_failure(prop: Callable[..., None], spec: str, **params: Any) -> str:
    """The same, in a fresh interpreter: in a worker that ran other tests first, the shrunk case once
    came out different (state some earlier test left behind), so the text is judged where nothing
    ran before it."""
    code = (
        "import json, sys\n"
        "from tests.test_counterexample_auxpow import printed_failure_here\n"
        "from properties import test_auxpow\n"
        "name, spec, params = json.loads(sys.argv[1])\n"
        "sys.stdout.write(printed_failure_here(getattr(test_auxpow, name), spec, **params))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps([prop.__name__, spec, params])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def printed_case(text: str, after: str) -> strategies.AuxPowCase:
    """The case printed after `after` (`case=`, `Draw 1 (case): `), to its closing parenthesis,
    evaluated as printed."""
    start = text.index(after) + len(after)
    end = text.index("(", start)  # from `case_of(` to the parenthesis that closes it
    depth = 1
    while depth:
        end += 1
        depth += {"(": 1, ")": -1}.get(text[end], 0)
    end += 1
    case = eval(text[start:end], NAMES)
    assert isinstance(case, strategies.AuxPowCase)
    return case


def check(spec: str, case: strategies.AuxPowCase) -> str:
    """The verdict of target `spec` on the case's proof."""
    target = targets.load(spec)
    return verdict(
        lambda: target.auxpow.check(case.auxpow.to_bytes(), case.aux_hash, case.chain_id, **case.check_args())
    )


VALID_PROOF_REJECTED = """\
Failing test case: test_valid_proofs_are_accepted(
    target=<target alys-fixed+auxpow-vin-magic-after-start>,
    case=case_of(AuxPowRecipe(
        aux_hash=bytes(32),
        chain_id=727272,
        layout='script-sig',
        chain_siblings=(),
        merkle_nonce=0,
        bits=545259519,
        parent_version=0,
        parent_prev=bytes(32),
        parent_time=0,
        coinbase_version=1,
        coinbase_sequence=0,
        coinbase_lock_time=0,
        script_sig_prefix=b'',
        script_sig_suffix=b'',
        payouts=(TxOut(0, b''), TxOut(0, b'')),
        extra_outputs=(),
        filler_script=b'',
        other_txids=()
    )),
)
layout script-sig, chain branch of 0"""


def test_a_valid_proof_the_mutant_rejects_prints_as_its_recipe_and_replays() -> None:
    """auxpow-vin-magic-after-start (the magic searched from offset 1): the shrunk proof is the
    smallest script-sig proof, the header at offset 0 of the scriptSig (`script_sig_prefix=b''`)."""
    mutant = "alys-fixed+auxpow-vin-magic-after-start"
    text = printed_failure(test_auxpow.test_valid_proofs_are_accepted, mutant)
    assert text == VALID_PROOF_REJECTED, f"the counterexample now reads:\n{text}"
    case = printed_case(text, "    case=")
    assert case.auxpow.coinbase_txn.inputs[0].script_sig.startswith(ref.MERGED_MINING_MAGIC)
    assert check(mutant, case) == "MissingHeader"  # the mutant fails on the case as printed
    assert check("alys-fixed", case) == "ok"


CORRUPTION_ACCEPTED = """\
Failing test case: test_check_rejects_corruption(
    target=<target alys-fixed+auxpow-merkle-size-bit-length>,
    corruption='merkle-size-not-2^h',
    data=data(...),
)
Draw 1 (case): case_of(AuxPowRecipe(
    aux_hash=bytes(32),
    chain_id=727272,
    layout='output-script',
    chain_siblings=(bytes(32), bytes(32), bytes(32), bytes(32), bytes(32), bytes(32), bytes(32), bytes(32)),
    merkle_nonce=0,
    bits=545259519,
    parent_version=0,
    parent_prev=bytes(32),
    parent_time=0,
    coinbase_version=1,
    coinbase_sequence=0,
    coinbase_lock_time=0,
    script_sig_prefix=b'\\x03\\x00\\x00\\x00',
    script_sig_suffix=b'',
    payouts=(TxOut(0, b''), TxOut(0, b'')),
    extra_outputs=(),
    filler_script=b'',
    other_txids=(),
    merkle_size=257
))
rule: {rule}"""


def test_a_corruption_the_mutant_accepts_prints_as_its_recipe_and_replays() -> None:
    """auxpow-merkle-size-bit-length (any size of h + 1 bits passes): the shrunk corruption is a
    merkle size of 2^h + 1 (257 for h = 8), one past the only size the rule allows. The property is
    parametrized by corruption name (node ids the kill matrix and the known failures key on), so
    its case is a labelled draw, printed whole all the same."""
    mutant, corruption = "alys-fixed+auxpow-merkle-size-bit-length", "merkle-size-not-2^h"
    text = printed_failure(test_auxpow.test_check_rejects_corruption, mutant, corruption=corruption)
    expected = CORRUPTION_ACCEPTED.format(rule=BY_NAME[corruption].describe())
    assert text == expected, f"the counterexample now reads:\n{text}"
    case = printed_case(text, "Draw 1 (case): ")
    assert case.recipe.merkle_size == (1 << len(case.recipe.chain_siblings)) + 1
    assert check(mutant, case) == "ok"  # the mutant accepts the case as printed
    assert check("alys-fixed", case) == "InvalidMerkleSize"
