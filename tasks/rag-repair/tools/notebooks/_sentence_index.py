sentences, owners = [], []
for path in sorted((DATA / "handbook").glob("*.md")):
    title, _, text = path.read_text(encoding="utf-8").partition("\n\n")
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        sentences.append(sentence)
        owners.append(path.stem)
questions = [json.loads(line) for line in (DATA / "questions.jsonl").read_text().splitlines() if line.strip()]
vectorizer = TfidfVectorizer(stop_words="english").fit(sentences)
matrix = vectorizer.transform(sentences)
