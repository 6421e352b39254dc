"""Private pieces of the SDK, one concern a module; nothing here is public API."""
