pub mod iam_eval;
