#!/usr/bin/env python3
"""Validate ft run records with in-toto's reference implementation.

Usage: scripts/check-intoto.py RUN.json [...]

Each file must parse as an in-toto Statement v1 (strictly: no unknown fields) and pass
the library's own Statement validation; its predicate must be a test-result v0.1 whose
fields parse strictly once ft's own key (`ft.run/v1`, which no protobuf field name can
take) is set aside, with a known result, valid resource descriptors, and no scenario
both passed and warned. Exit 0 when all are valid, 1 otherwise, 2 when the library is
missing (scripts/install-deps.sh installs it).
"""

import json
import sys

try:
    from google.protobuf import json_format
    from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement
except ImportError as err:
    print(f"check-intoto: the in-toto-attestation package is missing ({err}); "
          "install it with: pip install in-toto-attestation", file=sys.stderr)
    sys.exit(2)

FT_KEY = "ft.run/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"


def check(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    statement = json_format.Parse(text, statement_pb2.Statement())
    Statement.copy_from_pb(statement).validate()
    if statement.predicate_type != TEST_RESULT:
        raise ValueError(f"predicateType is {statement.predicate_type!r}, not {TEST_RESULT}")
    predicate = dict(json.loads(text)["predicate"])
    if FT_KEY not in predicate:
        raise ValueError(f"no {FT_KEY} details in the predicate")
    predicate.pop(FT_KEY)
    result = json_format.ParseDict(predicate, test_result_pb2.TestResult())
    if result.result not in ("PASSED", "WARNED", "FAILED"):
        raise ValueError(f"result {result.result!r} is not PASSED, WARNED or FAILED")
    for rd in result.configuration:
        ResourceDescriptor.copy_from_pb(rd).validate()
    both = set(result.passed_tests) & set(result.warned_tests)
    if both:
        raise ValueError(f"both passed and warned: {sorted(both)}")


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            check(path)
            print(f"{path}: valid in-toto Statement v1 with a test-result v0.1 predicate")
        except Exception as err:  # every failure is reported, with its cause
            failed += 1
            print(f"{path}: INVALID: {type(err).__name__}: {err}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
