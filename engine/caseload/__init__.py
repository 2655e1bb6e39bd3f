"""Caseload work: batch triage, caseload readers and writers, external sort, synthetic cohorts."""
