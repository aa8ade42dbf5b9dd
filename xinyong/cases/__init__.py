"""Cases (办件): objections, credit repair and complaints, handled with working-day deadlines."""
