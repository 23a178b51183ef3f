"""WAD test tooling: the sanitizer and fuzz drivers, the bad-WAD fixture generator, doc frames."""
