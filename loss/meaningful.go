package loss

// TopKMeaningful reports whether precision@k (k = 10, "precision_at_10")
// measures the model for K labels. With K ≤ 10 every label is among each
// sample's top 10, so the value is the mean fraction of true labels per
// sample, whatever the model predicts.
func TopKMeaningful(K int) bool { return K > 10 }

// Reported are the metrics worth reporting for K labels, in MetricNames'
// order: for one label the headline metrics (the micro and macro averages
// equal them), and precision@10 only when TopKMeaningful.
func Reported(K int) []string {
	var out []string
	for _, n := range metricNames {
		switch {
		case K == 1 && n != "loss" && n != "auroc" && n != "auprc" && n != "accuracy" && n != "f1" && n != "brier" && n != "ece":
		case n == "precision_at_10" && !TopKMeaningful(K):
		default:
			out = append(out, n)
		}
	}
	return out
}
