#!/usr/bin/env python3
"""Writes a cloud overlay's cloud.env from the module's outputs.

    tofu -chdir=infra/aws output -json | python3 infra/outputs_to_env.py aws > k8s/overlays/aws/cloud.env

The keys are the ones the overlay's replacements read (`fieldPath: data.KEY` of the ConfigMap
`cloud` in its kustomization.yaml), each the upper-case name of an output. It fails, naming them, if the module lacks any:
an overlay rendered with a placeholder would deploy against someone else's example values.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OVERLAYS = Path(__file__).resolve().parent.parent / "k8s" / "overlays"


def overlay_keys(cloud: str) -> list[str]:
    """The cloud.env keys the overlay's replacements read, in order of first use."""
    text = (OVERLAYS / cloud / "kustomization.yaml").read_text()
    found = re.findall(r"name: cloud, fieldPath: data\.([A-Z0-9_]+)", text)
    return list(dict.fromkeys(found))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (OVERLAYS / argv[0] / "kustomization.yaml").is_file():
        print("usage: tofu -chdir=infra/CLOUD output -json | outputs_to_env.py CLOUD", file=sys.stderr)
        return 2
    cloud = argv[0]
    keys = overlay_keys(cloud)
    outputs = json.load(sys.stdin)
    missing = [k for k in keys if k.lower() not in outputs]
    if missing:
        print(f"infra/{cloud} has no output for {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"# infra/{cloud}'s outputs for k8s/overlays/{cloud}, written by infra/outputs_to_env.py.")
    for key in keys:
        value = outputs[key.lower()]["value"]
        if not isinstance(value, str) or "\n" in value:
            print(f"output {key.lower()} is not a one-line string", file=sys.stderr)
            return 1
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
