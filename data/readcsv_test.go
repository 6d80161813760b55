package data

// ReadCSV reads a CSV data file with every column of cols required, labels
// included: the reader Load uses, without a Schema.
func ReadCSV(path string, cols Columns) (*Dataset, error) {
	return readCSVFile(path, &Schema{Columns: cols})
}
