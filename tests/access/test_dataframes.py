"""The Python data stack on ``loxo://``, embedded and through ``loxo serve``: pandas,
pyarrow datasets, duckdb and polars read and write loxo commits by URL."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest

from .conftest import LoxoHome

FRAME = pd.DataFrame({"id": [1, 2, 3], "label": ["cat", "dog", "eel"]})


@pytest.fixture
def lh(loxo_home: LoxoHome) -> LoxoHome:
    loxo_home.client.create_repo("images")
    return loxo_home


def test_pandas_writes_and_reads_csv_and_parquet(lh: LoxoHome) -> None:
    before = len(lh.client.list_commit("images"))
    FRAME.to_csv("loxo://images@master/labels.csv", index=False, storage_options=lh.options)
    FRAME.to_parquet("loxo://images@master/labels.parquet", storage_options=lh.options)
    assert len(lh.client.list_commit("images")) == before + 2
    back = pd.read_csv("loxo://images@master/labels.csv", storage_options=lh.options)
    pd.testing.assert_frame_equal(back, FRAME)
    back = pd.read_parquet("loxo://images@master/labels.parquet", storage_options=lh.options)
    pd.testing.assert_frame_equal(back, FRAME)
    old = pd.read_csv("loxo://images@master^1/labels.csv", storage_options=lh.options)
    pd.testing.assert_frame_equal(old, FRAME)  # the commit before the parquet one
    with pytest.raises(FileNotFoundError, match=r"labels\.parquet"):
        pd.read_parquet("loxo://images@master^1/labels.parquet", storage_options=lh.options)


def test_a_pyarrow_dataset_of_many_files(lh: LoxoHome) -> None:
    with lh.fs.transaction:  # the transaction is the filesystem's: write through its files
        for part in range(3):
            with lh.fs.open(f"images@master/ds/part-{part}.parquet", "wb") as f:
                FRAME.assign(part=part).to_parquet(f)
    dataset = ds.dataset("images@master/ds", filesystem=lh.fs, format="parquet")
    table = dataset.to_table()
    assert table.num_rows == 9
    assert sorted(set(table.column("part").to_pylist())) == [0, 1, 2]
    assert len(lh.client.list_commit("images")) == 1  # the transaction's one commit


def test_duckdb_reads_loxo_urls(lh: LoxoHome) -> None:
    FRAME.to_csv("loxo://images@master/labels.csv", index=False, storage_options=lh.options)
    FRAME.to_parquet("loxo://images@master/labels.parquet", storage_options=lh.options)
    con = duckdb.connect()
    con.register_filesystem(lh.fs)
    sql = "SELECT label FROM read_csv('loxo://images@master/labels.csv') WHERE id > 1 ORDER BY id"
    assert con.sql(sql).fetchall() == [("dog",), ("eel",)]
    sql = "SELECT sum(id) FROM read_parquet('loxo://images@master/labels.parquet')"
    assert con.sql(sql).fetchall() == [(6,)]
    lh.fs.copy("images@master/labels.parquet", "images@master/ds/part-2.parquet")
    sql = "SELECT count(*) FROM read_parquet('loxo://images@master/*/*.parquet')"
    assert con.sql(sql).fetchall() == [(3,)]  # duckdb's glob through fs.glob
    con.close()


def test_polars_reads_and_writes_file_objects(lh: LoxoHome) -> None:
    frame = pl.from_pandas(FRAME)
    with lh.fs.open("images@master/labels.parquet", "wb") as f:
        frame.write_parquet(f)
    with lh.fs.open("images@master/labels.parquet") as f:
        assert pl.read_parquet(f).equals(frame)
    lh.fs.pipe("images@master/labels.csv", FRAME.to_csv(index=False).encode())
    with lh.fs.open("loxo://images@master/labels.csv") as f:
        assert pl.read_csv(f).equals(frame)
