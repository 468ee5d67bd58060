"""Reading the selection and preparing each batch's requests, on reader threads."""
