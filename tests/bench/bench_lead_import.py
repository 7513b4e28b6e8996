"""Batch lead import benchmark: 500 pasted customer blocks, imported with the default model and
with the rules alone.

Run: .venv/bin/python tests/bench/bench_lead_import.py [--blocks 500]
Prints blocks/s for each pass and the import's counts. Half the blocks leave the name, company
and stage in free text, so the model is asked to fill them; the other half are fully labelled
(rules only, the model is not called). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import make_server  # noqa: E402

from llm import catalog  # noqa: E402

STAGES = ("novo", "qualificado", "proposta enviada", "fechado", "perdido")


def blocks(n: int, first_id: int) -> str:
    out = []
    for i in range(n):
        cid = first_id + i
        phone = f"(11) 9{cid // 10 % 10000:04d}-{cid % 10000:04d}"  # distinct for every id
        if i % 2:
            out.append(
                f"ID do Cliente: {cid}\nNome: Cliente {cid}\nTelefone: {phone}\nEmpresa: Loja {cid}\n"
                f"Etapa: {STAGES[i % 5]}\nValor: R$ {cid % 90 + 1}.500,00\nTags: varejo, sp\n"
            )
        else:
            out.append(
                f"ID do Cliente: {cid}\nRicardo Alves {cid} ligou do WhatsApp {phone}; trabalha na Loja {cid} "
                f"e está {STAGES[i % 5]}. Orçamento de {cid % 40 + 1},5 mil.\n"
            )
    return "\n".join(out)


def run(server, token: str, text: str, use_model: bool) -> dict:
    t0 = time.monotonic()
    r = server.request("POST", "/api/v1/contacts/import", {"text": text, "use_model": use_model}, token=token)
    assert r.status == 202, r.body
    job = r.json()
    while job["state"] in ("queued", "running"):
        time.sleep(0.2)
        job = server.request("GET", f"/api/v1/jobs/{job['id']}", token=token).json()
    secs = time.monotonic() - t0
    assert job["state"] == "done", job
    return {"blocks": job["total"], "seconds": secs, "per_second": job["total"] / secs, **job["result"]["counts"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=500)
    args = ap.parse_args()
    model = catalog.pull("default", Path.home() / ".local/share/conversa/models")[0]
    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(Path(tmp), model)
        server.start()
        try:
            token = server.login()["access_token"]
            state = server.request("GET", "/api/v1/health").json()["model"]["state"]
            results = {
                "default model": run(server, token, blocks(args.blocks, 10_000), True),
                "rules only": run(server, token, blocks(args.blocks, 20_000), False),
            }
            for label, r in results.items():
                print(
                    f"{label:14} {r['blocks']} blocks in {r['seconds']:6.1f} s  {r['per_second']:7.1f} blocks/s  "
                    f"created {r['created']} updated {r['updated']} rejected {r['rejected']}  (model {state})"
                )
            print(json.dumps({"blocks": args.blocks, "model": model.name, **results}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
