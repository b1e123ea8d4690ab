"""Claim extractors: the LLM one (instructor) and the offline rule-based one."""
