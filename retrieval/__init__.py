"""Semantic search and recommendation over the knowledge base (sentence-transformers + FAISS)."""
