"""Write the served schema's SDL to schema/schema.graphql: `python -m schema.export`."""

import pathlib

from schema.schema import build_schema

if __name__ == "__main__":
    path = pathlib.Path(__file__).with_name("schema.graphql")
    path.write_text(build_schema().as_str() + "\n")
    print(f"wrote {path}")
