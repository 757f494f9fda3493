"""backlog"""
