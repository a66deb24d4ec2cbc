"""The staff inbox API: conversations, replies, assignment, canned responses and the live event stream."""
