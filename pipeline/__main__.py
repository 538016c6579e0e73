from pipeline.cli import main

if __name__ == "__main__":  # process and Dask task runners re-import the main module
    main()
