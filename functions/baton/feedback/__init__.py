"""Delivery feedback (issue 4): SES, End User Messaging and SNS receipts; bounces, complaints, waiters."""
