"""Policies: the user's limits on a session, checked before the phone is asked.

Pure rules: the policy, the decoded request, what was already spent and ``now`` come in as arguments;
reserving a budget atomically is the store's job.
"""
