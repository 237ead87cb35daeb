"""`python -m worksample.mockllm serve|validate`: the entry point inside the mockllm image."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worksample.mockllm", description="The mock LLM API.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the mock LLM API")
    serve.add_argument("--profile", required=True, help="profile YAML")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--log", required=True, help="call log (calls.jsonl); bodies.jsonl goes beside it")
    serve.add_argument("--seed", type=int, default=None, help="overrides the profile's seed")
    serve.add_argument("--oracle", default=None, help="a task's oracle.py")
    serve.add_argument("--api-key", action="append", default=[], dest="api_keys",
                       help="accepted key (repeatable); without it any non-empty key is accepted")
    serve.add_argument("--memory-limit", type=int, default=None, dest="memory_limit",
                       help="bytes; the memory guard's limit (default: the cgroup's)")
    serve.add_argument("--service", default=None, help="a task's service.py, served on --service-port")
    serve.add_argument("--service-port", type=int, default=None, dest="service_port", help="default 8081")
    validate = sub.add_parser("validate", help="validate a profile")
    validate.add_argument("profile")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a bad profile or oracle prints one line and returns 1."""
    from worksample.mockllm import runner
    from worksample.mockllm.oracle import OracleLoadError
    from worksample.mockllm.profile import ProfileError
    from worksample.mockllm.service import ServiceLoadError

    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            profile = runner.validate(args.profile)
            print(f"{args.profile}: ok ({len(profile.models)} models, {len(profile.faults)} faults, {len(profile.incidents)} incidents)")
            return 0
        runner.serve(args.profile, host=args.host, port=args.port, log_path=args.log, seed=args.seed,
                     oracle_path=args.oracle, api_keys=tuple(args.api_keys), memory_limit=args.memory_limit,
                     service_path=args.service, service_port=args.service_port)
        return 0
    except (ProfileError, OracleLoadError, ServiceLoadError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:  # port in use, log dir not writable
        print(f"mockllm: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
