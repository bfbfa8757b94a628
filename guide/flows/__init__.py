"""The flowchart engine: load and check YAML content, run it as state machines."""

from .content import Content, Edition, load_content
from .machine import FlowMachine, WalkPosition
from .flowchart import Answer, Decision, Flowchart, Outcome, Question
from .paths import FlowPath, enumerate_paths
from .yaml_lines import ContentError, ContentIssue

__all__ = [
    "Answer", "Content", "ContentError", "ContentIssue", "Decision", "Edition", "FlowMachine", "FlowPath",
    "Flowchart", "Outcome", "Question", "WalkPosition", "enumerate_paths", "load_content",
]
