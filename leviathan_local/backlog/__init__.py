"""The backlog document `.leviathan/backlog.yaml`: the task model, parsing with positions,
validation, the no-loss line edits and their atomic store (with its parse cache), human
transitions, and the task-by-task three-way merge with the git merge driver. Its data path runs
one way: store → cache → parse → validate → items/model, and store → edit → layout. It may
import ``config``, ``git``, ``events`` and the primitives.
"""
