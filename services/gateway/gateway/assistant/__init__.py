"""The assistant: questions in plain words answered from the platform's own read operations (issue #15)."""
