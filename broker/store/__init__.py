"""Where message state lives: one interface of batch verbs (``base``), an in-memory state
machine (``memory``), and that machine made durable by the write-ahead log (``durable``)."""
