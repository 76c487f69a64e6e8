"""The demo company, Nimbus Home: its content, its generated support history, and preparing it.

Part of the command-line shell (with `assistant.cli`): `prepare` trains the demo models with
`training/`, which the runtime never imports.

- `schema`: what the content files hold (intents, outcomes, follow-ups, products, the
  conversation around a request) and the placeholders a template may use;
- `content`: reads the TOML files in `assistant/demo_data/content/` into the schema and checks
  them on load (`load_content`);
- `dialogues`: the seeded generator of the demo dialogues (`python -m assistant.demo.dialogues`
  rewrites `assistant/demo_data/dialogues.jsonl`, `dialogues_test.jsonl` and `dialogues_val.jsonl`);
- `prepare`: trains the demo intent classifier and response ranker, builds the demo KB index and
  calibrates the policy on the validation dialogues, for `assistant demo`.
"""
