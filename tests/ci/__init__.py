"""Tests of the GitLab CI configuration, and its local rehearsal."""
