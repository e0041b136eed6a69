"""ecsundo: snapshot, restore and roll back the task definitions of AWS ECS services."""

__version__ = "0.1.0"
