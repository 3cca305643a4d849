"""The cross-reference views, one module per kind: connected pages, the matrix, the network map."""
