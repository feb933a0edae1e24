"""Write the app's OpenAPI description (the console's API types are generated from it).

.venv/bin/python -m app.openapi_dump console/openapi.json
"""

import json
import sys
from pathlib import Path

from app.main import create_app


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("console/openapi.json")
    schema = create_app().openapi()
    text = json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if not out.exists() or out.read_text(encoding="utf-8") != text:  # keep the stamp's input
        out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
