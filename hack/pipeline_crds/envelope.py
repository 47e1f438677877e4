"""The CustomResourceDefinition around a schema, and the fields every kind shares."""

from __future__ import annotations

from typing import Any

MAX_STEPS, MAX_FINALLY, MAX_DEPENDS_ON, MAX_PARAMS, MAX_EXPRESSION = 200, 20, 7, 64, 4096
DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

META = {
    "apiVersion": {
        "type": "string",
        "description": (
            "APIVersion defines the versioned schema of this representation of an object."
        ),
    },
    "kind": {
        "type": "string",
        "description": (
            "Kind is a string value representing the REST resource this object represents."
        ),
    },
    "metadata": {"type": "object"},
}
AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def time(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date-time", "description": description}


def crd(
    *, kind: str, plural: str, short: str, columns: list[dict[str, Any]], schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.conveyor.dev",
            "labels": {
                "app.kubernetes.io/name": "conveyor",
                "app.kubernetes.io/part-of": "conveyor",
            },
        },
        "spec": {
            "group": "conveyor.dev",
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["conveyor"],
            },
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    **(
                        {"subresources": {"status": {}}} if "status" in schema["properties"] else {}
                    ),
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
