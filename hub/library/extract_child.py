"""The child process that reads one untrusted file: bytes on stdin, one JSON object on stdout.

Run as ``python -m hub.library.extract_child KIND``. ``files.extract_isolated`` starts it
with the memory and CPU limits already set, and judges it by its exit and its output.
"""

import json
import logging
import sys


def main() -> int:
    # Python's default, stated on purpose: far below what the C stack holds, so a deeply
    # nested file ends in RecursionError rather than a crash.
    sys.setrecursionlimit(1_000)
    # pypdf logs a warning for every flaw it repairs; nobody reads the child's stderr for them.
    logging.disable(logging.WARNING)
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        from hub.library.files import extract_text

        result = extract_text(sys.stdin.buffer.read(), kind)
        reply = {"status": result.status, "text": result.text, "message": result.message}
    except MemoryError:
        reply = {"status": "failed", "text": "",
                 "message": "This file needs too much memory to read safely."}
    except Exception:   # extract_text never raises, so only the import or the read can get here
        reply = {"status": "failed", "text": "", "message": "The text reader could not start."}
    sys.stdout.buffer.write(json.dumps(reply, ensure_ascii=False).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
