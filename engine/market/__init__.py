"""Bar sources for the market data agent: replay of shipped data, or live public feeds."""
