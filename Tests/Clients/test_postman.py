"""The Postman collection: it is what scripts/postman makes of today's openapi.yaml, it holds every
operation, and it runs top to bottom on a fresh server with scripts/postman-run, every answer
the status its script expects and one the spec documents for that operation."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, free_port, load_script

POSTMAN = ROOT / "Postman"
COLLECTION = POSTMAN / "parley.postman_collection.json"
ENVIRONMENT = POSTMAN / "parley.postman_environment.json"


def spec():
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def operation_ids(document):
    return [op["operationId"] for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op]


def requests(items):
    for item in items:
        yield from requests(item["item"]) if "item" in item else [item]


def test_committed_files_are_what_the_generator_makes(tmp_path):
    answer = subprocess.run([sys.executable, ROOT / "scripts" / "postman", "--out", tmp_path],
                            capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    for name in (COLLECTION.name, ENVIRONMENT.name):
        assert (tmp_path / name).read_bytes() == (POSTMAN / name).read_bytes(), \
            f"Postman/{name} is not what scripts/postman makes of openapi.yaml: run scripts/postman"
    again = tmp_path / "again"
    subprocess.run([sys.executable, ROOT / "scripts" / "postman", "--out", again], check=True, capture_output=True)
    assert (again / COLLECTION.name).read_bytes() == COLLECTION.read_bytes(), "generating twice differs"


def test_every_operation_is_in_the_collection_in_its_tag_folder():
    document = spec()
    collection = json.loads(COLLECTION.read_text())
    assert collection["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    found = set()
    tags = {op["operationId"]: op["tags"][0] for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}
    for folder in collection["item"]:
        tag = re.match(r"\d+ (\S+) — ", folder["name"])[1]
        for item in folder["item"]:
            op_id = re.match(r"\*\*Operation:\*\* `(\w+)`", item["request"]["description"])[1]
            assert tags[op_id] == tag, f"{item['name']} ({op_id}) is in the {tag} folder"
            found.add(op_id)
    missing = sorted(set(operation_ids(document)) - found)
    assert not missing, f"operations missing from the collection: {missing}"


def test_generator_refuses_a_walkthrough_that_misses_an_operation(tmp_path):
    walkthrough = yaml.safe_load((POSTMAN / "walkthrough.yaml").read_text())
    for folder in walkthrough["folders"]:
        folder["steps"] = [s for s in folder["steps"] if s["op"] != "listBlocks"]
    (tmp_path / "walkthrough.yaml").write_text(yaml.safe_dump(walkthrough))
    (tmp_path / "teapot.png").write_bytes((POSTMAN / "teapot.png").read_bytes())
    answer = subprocess.run([sys.executable, ROOT / "scripts" / "postman", "--walkthrough", tmp_path / "walkthrough.yaml",
                             "--out", tmp_path], capture_output=True, text=True)
    assert answer.returncode != 0
    assert "operation listBlocks (GET /blocks) has no step" in answer.stderr


def test_runner_reads_the_spec_as_yaml_does():
    """scripts/postman-run has only the standard library, so it reads openapi.yaml itself."""
    runner = load_script("postman-run")
    server, operations = runner.read_yaml((ROOT / "openapi.yaml").read_text())
    document = spec()
    expected = sorted((path, method.upper(), op["operationId"], [str(code) for code in op["responses"]])
                      for path, item in document["paths"].items() for method, op in item.items()
                      if method in runner.METHODS)
    assert server == document["servers"][0]["url"]
    assert sorted(operations) == expected


@pytest.mark.parametrize("line", [
    "pm.expect(j.title).to.eql('Tea party');",
    "pm.response.to.have.status(201) && pm.collectionVariables.set('x', 1);",
    "pm.collectionVariables.set(\"x\", j.items.map(i => i.id));",
    "pm.collectionVariables.set(\"x\", k.id);",
    "if (pm.response.code === 201) pm.environment.set(\"x\", j.id);",
    "pm.test(\"ok\", () => pm.expect(pm.response.responseTime).to.be.below(200));",
])
def test_runner_fails_on_a_statement_it_does_not_understand(tmp_path, line):
    collection = {"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
                  "item": [{"name": "one", "request": {"method": "GET", "url": "http://127.0.0.1:9/api/v1/me"},
                            "event": [{"listen": "test", "script": {"exec": ["const j = pm.response.json();", line]}}]}]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(collection))
    answer = subprocess.run([sys.executable, ROOT / "scripts" / "postman-run", path], capture_output=True, text=True)
    assert answer.returncode != 0
    assert "not" in answer.stderr and line.strip() in answer.stderr, answer.stderr
    assert answer.stdout == "", "nothing may be sent before every script is understood"


def test_runner_reads_the_statements_it_documents():
    runner = load_script("postman-run")
    script = runner.compile_script([
        "// a comment",
        "const j = pm.response.json();",
        'pm.test("Status is 201 Created", () => pm.response.to.have.status(201));',
        'pm.test("either", function () { pm.expect(pm.response.code).to.be.oneOf([200, 201]); });',
        "pm.response.to.have.status(201);",
        'pm.collectionVariables.set("first", j.items[0].id);',
        'pm.environment.set("seq", pm.response.json().seq);',
        'pm.environment.set("fixed", "value");',
    ])
    assert [s[0] for s in script] == ["bind", "status", "status", "status", "set", "set", "set"]
    answer = json.dumps({"items": [{"id": "abc"}], "seq": 7}).encode()
    variables = runner.Variables({"variable": [{"key": "first", "value": "old"}]}, {"values": [{"key": "seq", "value": ""}]}, {})
    assert runner.apply(script, answer, variables) == []
    assert variables.substitute("{{first}}/{{seq}}/{{fixed}}") == "abc/7/value"
    assert runner.check("POST", "/api/v1/groups", 200, script, None) == ["expected 201, got 200", "expected 201, got 200"]
    assert runner.apply([("set", "environment", "x", ("path", "j.missing", ["missing"]))], answer, variables) \
        == ["j.missing is undefined in the answer"]


def test_collection_runs_top_to_bottom_on_a_fresh_server(server):
    answer = subprocess.run(
        [sys.executable, ROOT / "scripts" / "postman-run", COLLECTION, "-e", ENVIRONMENT,
         "--env-var", f"baseUrl={server.url}",
         "--env-var", f"pushEndpoint=http://127.0.0.1:{free_port()}/push"],
        capture_output=True, text=True, timeout=300)
    print(answer.stdout)
    assert answer.returncode == 0, f"{answer.stdout}\n{answer.stderr}\nserver log:\n{server.log()[-2000:]}"
    lines = answer.stdout.splitlines()
    total = len(list(requests(json.loads(COLLECTION.read_text())["item"])))
    assert lines[-1] == f"{total} requests, 0 failed"
    assert len([line for line in lines if re.match(r"(GET|PUT|POST|PATCH|DELETE) +/api/v1/\S* \d{3} \d+ ms$", line)]) == total
