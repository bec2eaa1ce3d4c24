"""County geometry: boundaries, CRS conversion, generated grids, point-to-grid lookup, web layers."""
