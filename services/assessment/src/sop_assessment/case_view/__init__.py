"""case_view"""
