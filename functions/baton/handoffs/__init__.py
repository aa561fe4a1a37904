"""Hand-offs: tasks a journey hands to people, their queues, and passing the baton back."""
