"""The offline messenger of the local stack: messages are recorded as delivered, nothing leaves."""
