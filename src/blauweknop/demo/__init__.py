"""The demo world: clearly fictional organisations and synthetic citizens, reproducible from a seed."""
