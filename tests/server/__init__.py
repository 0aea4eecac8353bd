"""Tests of loxo's server doors."""
