"""Safe decoding of uploaded photos."""

import io

import pytest
from django.test import override_settings
from PIL import Image

from kyc import images
from tests.kyc.conftest import face_path


def refusal(data: bytes, fn=images.load) -> str:
    with pytest.raises(images.PhotoRefused) as exc:
        fn(io.BytesIO(data))
    return exc.value.code


def jpeg(image: Image.Image, **save_args) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", **save_args)
    return out.getvalue()


@pytest.mark.parametrize("fn", [images.load, images.inspect])
def test_what_is_not_a_photo_is_refused_with_its_reason(fn):
    assert refusal(b"", fn) == "empty"
    assert refusal(b"hello, this is text\n" * 50, fn) == "not_an_image"
    assert refusal(b"%PDF-1.7\n" + bytes(range(256)) * 10, fn) == "not_an_image"
    assert refusal(b"GIF89a" + bytes(100), fn) == "not_an_image"


@pytest.mark.parametrize("fn", [images.load, images.inspect])
def test_a_truncated_jpeg_is_refused_not_a_crash(fn):
    data = face_path("obama.jpg").read_bytes()
    assert refusal(data[: len(data) // 3], fn) == "not_an_image"
    assert refusal(data[:-2000], fn) == "not_an_image"


def test_a_gif_or_bmp_is_not_taken():
    out = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(out, format="BMP")
    assert refusal(out.getvalue()) == "not_an_image"


@override_settings(KYC_MAX_UPLOAD_BYTES=50_000)
def test_a_file_over_the_size_limit_is_refused():
    data = face_path("obama.jpg").read_bytes()
    assert len(data) > 50_000
    assert refusal(data) == "too_large"
    assert refusal(data, images.inspect) == "too_large"


@override_settings(KYC_MAX_PIXELS=4_000_000)
def test_a_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("L", (3000, 3000), 0).save(out, format="PNG", optimize=True)  # 9 MP of nothing, tiny file
    data = out.getvalue()
    assert len(data) < 100_000
    assert refusal(data) == "too_many_pixels"
    assert refusal(data, images.inspect) == "too_many_pixels"


def test_rgba_loses_its_alpha_and_small_photos_stay_small():
    rgba = images.load(face_path("obama2_rgba.png").open("rb"))
    assert rgba.pixels.shape[2] == 3 and rgba.pixels.dtype.name == "uint8"
    small = images.load(face_path("obama_small.jpg").open("rb"))
    assert small.pixels.shape == (240, 320, 3)


def test_large_photos_are_scaled_down_to_the_work_size():
    big = images.load(face_path("obama3.jpg").open("rb"))
    assert big.original_size == (1434, 2333)
    assert max(big.pixels.shape[:2]) <= 1024 * 1.5


def test_exif_orientation_is_applied():
    with Image.open(face_path("obama.jpg")) as im:
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to show
        data = jpeg(im.convert("RGB"), exif=exif)
        width, height = im.size
    assert height > width  # a portrait
    loaded = images.load(io.BytesIO(data))
    shown_height, shown_width = loaded.pixels.shape[:2]
    assert shown_width > shown_height  # turned as the EXIF tag says


def test_heic_from_a_phone_is_read():
    from pillow_heif import from_pillow

    with Image.open(face_path("obama2.jpg")) as im:
        heif = from_pillow(im.convert("RGB"))
    out = io.BytesIO()
    heif.save(out, quality=80)
    loaded = images.load(io.BytesIO(out.getvalue()))
    assert loaded.format == "HEIF"
    assert loaded.pixels.shape == (1200, 626, 3)


def test_the_viewing_copy_is_a_jpeg_without_exif():
    with Image.open(face_path("obama.jpg")) as im:
        exif = Image.Exif()
        exif[0x8825] = {1: "S", 2: (6.0, 54.0, 0.0)}  # GPS position
        data = jpeg(im.convert("RGB"), exif=exif)
    shown = images.as_jpeg(io.BytesIO(data))
    with Image.open(io.BytesIO(shown)) as out:
        assert out.format == "JPEG"
        assert not out.getexif()
        assert max(out.size) <= 800
