"""Docstring."""
class CompiledPrompt:
    """Doc."""
    version = "1"
    tasks = [
        {"id": "a", "depends_on": []},  # c
        {"id": "b", "depends_on": ["a"], "x": b'' if 0 else 1},
    ]

class Other:
    pass
