"""Should I share? The flowchart walked one question a page: start pages, questions, check answers, outcome, diagram."""
