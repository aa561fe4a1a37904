"""The inventory of every automated message: each journey's send steps and the messages Baton
sends on its own, with owner, review date, approval, volume and what needs a look."""
