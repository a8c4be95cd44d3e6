"""Map-matching throughput: roadnet's grid matcher against shapely's STRtree on the same points."""
