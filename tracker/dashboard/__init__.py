"""领导驾驶舱: charts (ECharts, SVG) with the same figures in tables beside them."""
