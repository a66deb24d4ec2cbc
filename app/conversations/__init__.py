"""The staff inbox: conversation threads (Task prm-conversation) and their messages."""
