"""Delivery feedback: SES, End User Messaging and SNS receipts; bounces, complaints, waiters."""
