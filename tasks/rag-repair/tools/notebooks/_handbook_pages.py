# %%
pages = {}
for path in sorted((DATA / "handbook").glob("*.md")):
    title, _, text = path.read_text(encoding="utf-8").partition("\n\n")
    pages[path.stem] = {"title": title.lstrip("# ").strip(), "text": text.strip()}
questions = [json.loads(line) for line in (DATA / "questions.jsonl").read_text().splitlines() if line.strip()]
print(f"{len(pages)} handbook pages, {len(questions)} questions")
