// Draw the flowchart from the Mermaid text the server wrote (from the transitions machine).
window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", state: { useMaxWidth: false } });
window.mermaid.run({ querySelector: "pre.mermaid" });
