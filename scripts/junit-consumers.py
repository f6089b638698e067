#!/usr/bin/env python3
"""Read a JUnit file the way three real consumers do, and say what each saw.

Usage: scripts/junit-consumers.py JUNIT.xml

Prints one JSON object: for each parser (junitparser, xunitparser, Codecov's
test-results-parser), its version and either the outcome it gives each testcase
("classname/name": passed, failure, error or skipped; junitparser also lists the
testcases it reads as flaky) or the error it stopped with. A parser that stops is a
result, not a crash of this script: exit 0 whenever the JSON was printed, 2 when a
parser is missing (scripts/install-deps.sh installs them into their venv).
"""

import importlib.metadata
import json
import os
import sys
import traceback

try:
    import junitparser
    import junitparser.xunit2
    import test_results_parser
    import xunitparser
except ImportError as err:
    print(f"junit-consumers: a parser is missing ({err}); run scripts/install-deps.sh", file=sys.stderr)
    sys.exit(2)


def stopped(err):
    # The last frame says which check gave up (xunitparser's asserts carry no message).
    frame = traceback.extract_tb(err.__traceback__)[-1]
    return f"{type(err).__name__}: {err} (at {frame.name}: {frame.line})"


def read_junitparser(path):
    cases, flaky = {}, []
    # xunit2's classes are junitparser's own plus Surefire's rerun/flaky elements.
    for suite in junitparser.xunit2.JUnitXml.fromfile(path):
        for case in suite:
            key = f"{case.classname}/{case.name}"
            if case.is_failure:
                cases[key] = "failure"
            elif case.is_error:
                cases[key] = "error"
            elif case.is_skipped:
                cases[key] = "skipped"
            else:
                cases[key] = "passed"
            if case.is_flaky:
                flaky.append(key)
    return {"cases": cases, "flaky": flaky}


def read_xunitparser(path):
    with open(path, "rb") as f:
        suite, _result = xunitparser.parse(f)
    words = {"success": "passed", "failure": "failure", "error": "error", "skipped": "skipped"}
    return {"cases": {f"{tc.classname}/{tc.methodname}": words[tc.result] for tc in suite}}


def read_test_results_parser(path):
    with open(path, "rb") as f:
        parsed = test_results_parser.parse_junit_xml(f.read())
    # Its Outcome is a Rust enum: comparable, not hashable.
    Outcome = test_results_parser.Outcome
    words = [(Outcome.Pass, "passed"), (Outcome.Failure, "failure"), (Outcome.Error, "error"), (Outcome.Skip, "skipped")]
    cases = {}
    for run in parsed.testruns:
        word = next((w for o, w in words if run.outcome == o), repr(run.outcome))
        cases[f"{run.classname}/{run.name}"] = word
    return {"cases": cases}


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    if not os.path.isfile(path):
        print(f"junit-consumers: no file {path}", file=sys.stderr)
        return 2
    seen = {}
    for name, package, read in [
        ("junitparser", "junitparser", read_junitparser),
        ("xunitparser", "xunitparser", read_xunitparser),
        ("test-results-parser", "test_results_parser", read_test_results_parser),
    ]:
        try:
            seen[name] = read(path)
        except Exception as err:  # noqa: BLE001 - any way a consumer gives up is the finding
            seen[name] = {"error": stopped(err)}
        seen[name]["version"] = importlib.metadata.version(package)
    print(json.dumps(seen, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
