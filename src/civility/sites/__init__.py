"""Language versions: several sites (domain or path prefix, language, policy) in one install."""
